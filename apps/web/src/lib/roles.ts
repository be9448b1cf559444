import type { OrganizationRole } from '@tierbase/contracts';

export const roleLabel: Record<OrganizationRole, string> = {
  owner: 'Owner',
  admin: 'Admin',
  member: 'Member',
};
