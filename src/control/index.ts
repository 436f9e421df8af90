export { ControlServer, CommandError, type CommandHandler, type CommandInfo, type ControlCounters, type ControlServerOptions, type ListenResult, type RequestContext } from './server';
export { ControlClient, requestOnce, type ClientFailure, type ClientOptions, type ClientResult } from './client';
export { MAX_LINE_BYTES, encodeMessage, parseRequest, parseResponse, type ControlRequest, type ControlResponse, type RequestId } from './protocol';
export { LineSplitter } from './line-splitter';
export { inspectSocketFile, prepareSocketPath, probeSocket } from './socket-file';
export { DEFAULT_CONFIG_PATH, DEFAULT_CONTROL_SOCKET } from './defaults';
export { chooseSocket, type SocketChoice } from './choose-socket';
