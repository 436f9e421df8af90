import { readSecretFileSync, type SecretFileRules } from '../lib/secret-file';
import type { InstanceConfig } from './schema/instance';
import type { TwinvipConfig } from './schema/root';

/** A secret the configuration keeps in a file: where the field is, the file, and what the secret must be. */
export interface SecretFileRef {
  pointer: string;
  path: string;
  rules: SecretFileRules;
  /** A missing file is not an error but this warning (the heartbeat key before pairing). */
  absent?: string;
}

export const HEARTBEAT_KEY_RULES: SecretFileRules = { minBytes: 16, trim: true };
export const VRRP_PASSWORD_RULES: SecretFileRules = { maxBytes: 8 };

/** Every `*_file` secret the configuration names (twinvip check reads each of them). */
export function secretFiles(config: TwinvipConfig): SecretFileRef[] {
  const refs: SecretFileRef[] = [];
  const serial = config.heartbeat.serial;
  if (serial?.key_file !== undefined) refs.push({
      pointer: '/heartbeat/serial/key_file', path: serial.key_file, rules: HEARTBEAT_KEY_RULES,
      absent: `${serial.key_file} does not exist: the box is not paired yet and runs plain VRRP (no serial heartbeat) until \`twinvip pair\` on one box and the code typed on the other write it`,
    });
  if (config.mqtt.password_file !== undefined) refs.push({ pointer: '/mqtt/password_file', path: config.mqtt.password_file, rules: {} });
  // The client's private key (PEM): only that it is there and private is checked here.
  if (config.mqtt.tls?.key !== undefined) refs.push({ pointer: '/mqtt/tls/key', path: config.mqtt.tls.key, rules: {} });
  if (config.email?.password_file !== undefined) refs.push({ pointer: '/email/password_file', path: config.email.password_file, rules: {} });
  if (config.console.password_file !== undefined) refs.push({ pointer: '/console/password_file', path: config.console.password_file, rules: {} });
  for (const [name, inst] of Object.entries(config.instances)) {
    const file = inst.authentication?.password_file;
    if (file !== undefined) refs.push({ pointer: `/instances/${name}/authentication/password_file`, path: file, rules: VRRP_PASSWORD_RULES });
  }
  return refs;
}

/** The VRRP PASS password of an instance, inline or from its file; throws (with the file and why) when unreadable. */
export function vrrpPassword(auth: NonNullable<InstanceConfig['authentication']>): string {
  if (auth.password_file === undefined) return auth.password ?? '';
  const r = readSecretFileSync(auth.password_file, VRRP_PASSWORD_RULES);
  if (!r.ok) throw new Error(`authentication.password_file ${r.error}`);
  return r.value;
}

/**
 * The configuration with every VRRP password_file read into its instance's password, for the
 * VRRP part to plan from (in memory only: status and pushes never see the secret). Throws when a
 * file cannot be read; `twinvip run` and reload check the files before they get here.
 */
export function withVrrpPasswords(config: TwinvipConfig): TwinvipConfig {
  let copy: TwinvipConfig | undefined;
  for (const [name, inst] of Object.entries(config.instances)) {
    const auth = inst.authentication;
    if (auth?.password_file === undefined) continue;
    copy ??= { ...config, instances: { ...config.instances } };
    copy.instances[name] = { ...inst, authentication: { type: auth.type, password: vrrpPassword(auth) } };
  }
  return copy ?? config;
}
