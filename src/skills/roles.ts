import type { Role, RolesConfig } from '../config/config.js';

/** Roles by channel user id, from configuration (USER_ROLES, DEFAULT_ROLES). */
export class RoleDirectory {
  constructor(private readonly config: RolesConfig) {}

  rolesOf(userId: string): Role[] {
    return this.config.byUser[userId] ?? this.config.defaults;
  }

  has(userId: string, ...roles: Role[]): boolean {
    const mine = this.rolesOf(userId);
    return roles.some((r) => mine.includes(r));
  }

  /** Users listed with any of `roles` (only explicitly listed users: defaults apply to everyone else). */
  usersWith(...roles: Role[]): string[] {
    return Object.entries(this.config.byUser)
      .filter(([, mine]) => roles.some((r) => mine.includes(r)))
      .map(([id]) => id);
  }
}

export function describeRoles(roles: readonly Role[]): string {
  return roles.length === 0 ? 'none' : roles.join(', ');
}
