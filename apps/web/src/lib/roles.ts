import type { OrganizationRole } from '../api.ts';

export const roleLabel: Record<OrganizationRole, string> = {
  owner: 'Owner',
  admin: 'Admin',
  member: 'Member',
};
