// MQTT reporting and fleet commands (issue 7).
export { MqttExtension, type MqttExtensionOptions, type EventMessage, type MqttCounters } from './extension';
export type { HaActions, HaActionResult } from './ha-actions';
export type { StateProvider } from './state';
export type { TelemetryProvider, Telemetry } from './telemetry/collect';
export { nginxStubStatusProvider } from './telemetry/nginx-stub';
export { topicsFor, commandOfTopic, type Topics } from './topics';
export { okResponse, errorResponse, type ResponseEnvelope } from './envelope';
export { COMMAND_SCHEMAS, COMMAND_NAMES, type CommandName } from './commands/schemas';
