// The serial port packages, as one module that src/lib/serial-port.ts import()s on the first
// open. A static re-export here (rather than import() of the packages themselves) lets the
// bundler do its CommonJS interop: a split chunk of @serialport/stream only has a default export.
export { autoDetect } from '@serialport/bindings-cpp';
export { SerialPortStream } from '@serialport/stream';
