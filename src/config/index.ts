// The configuration module: one JSON file, its JSON Schema, the loader and the semantic rules.
export type { ConfigIssue } from '../lib/config-issues';
export { formatIssues, showValue } from '../lib/config-issues';
export type { ConfigResult } from './load';
export { parseConfigText, loadConfigFile } from './load';
export { applyBoard, boardProblem, defaultBoardDirs, fsBoardCatalog, type BoardCatalog, type BoardFacts } from './board';
export type { TwinvipConfig } from './schema/root';
export type { InstanceConfig, SyncGroupConfig, VipSpec, TrackSpec } from './schema/instance';
export type { CheckConfig } from './schema/checks';
export { commandArgv } from '../lib/command-argv';
export type { CommandSpec } from '../lib/schema-helpers';
export { configHash, canonicalJson } from './hash';
export { instanceVips, instanceFamily, normalizeVip, DEFAULT_MCAST_GROUP, type NormalizedVip } from './vips';
export { interfaceReferences, checkInterfacesExist, type InterfaceReference } from './interfaces';
export { trackRefs, type TrackRef } from './track';
export type { FamilyName as Family } from '../lib/ip';
export { secretFiles, vrrpPassword, withVrrpPasswords, HEARTBEAT_KEY_RULES, VRRP_PASSWORD_RULES, type SecretFileRef } from './secrets';
export { checkSecretFiles, checkPrograms, configuredPrograms, loadConfigOnBox, type OnBoxFindings } from './on-box';
