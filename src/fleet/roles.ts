// Who may do what with a signed request. TUF-style separation: a key that can push a new
// configuration is kept apart from the keys used day to day for maintenance and failover.

export const ROLES = ['operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The least role each command needs; a command missing here needs `admin`, so a command added
 * later is never open by accident. `read` commands only look; they may be allowed unsigned
 * locally (mqtt.commands.unsigned).
 */
export const COMMAND_ROLE: Readonly<Record<string, Role | 'read'>> = {
  status: 'read',
  diagnostics: 'read',
  maintenance: 'operator',
  failover: 'operator',
  reload: 'operator',
  config: 'admin',
};

/** Commands that change nothing on the box. */
export const READ_ONLY_COMMANDS = Object.keys(COMMAND_ROLE).filter((c) => COMMAND_ROLE[c] === 'read');

const RANK: Record<Role | 'read', number> = { read: 0, operator: 1, admin: 2 };

export function requiredRole(command: string): Role | 'read' {
  return Object.hasOwn(COMMAND_ROLE, command) ? COMMAND_ROLE[command]! : 'admin';
}

/** An admin may do what an operator may (a config push can change priorities anyway). */
export function roleAllows(role: Role, command: string): boolean {
  return RANK[role] >= RANK[requiredRole(command)];
}
