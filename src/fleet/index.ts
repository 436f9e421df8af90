// Fleet side of signed requests: keys, the signed envelope, roles, and an MQTT client that sends
// requests to boxes and waits for their answers.
export { generateKeyPair, publicKeyText, parsePublicKey, keyFingerprint, loadPrivateKey, writeNewFile, PUBLIC_KEY_PATTERN } from './keys';
export { signRequest, verifySignature, signedBytes, parseSignedRequest, looksSigned, SIGNATURE_CONTEXT, WIRE_VERSION, type SignedRequest } from './signed-request';
export { ROLES, COMMAND_ROLE, READ_ONLY_COMMANDS, requiredRole, roleAllows, type Role } from './roles';
export { FleetClient, prefixFor, DEFAULT_PREFIX, type BrokerOptions, type FleetAnswer, type FleetResponse, type RequestOptions, type RequestTarget } from './client';
export { commandArgs, COMMAND_USAGE } from './command-args';
