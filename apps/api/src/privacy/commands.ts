import { findUserIdByEmail } from '../users/users.ts';
import { deleteAccount, exportUserData, type PrivacyDeps } from './service.ts';

type Print = (text: string) => void;

/** `user:export <email>`: the user's export document, as JSON on stdout. */
export async function exportUserCommand(deps: PrivacyDeps, args: string[], print: Print): Promise<void> {
  const [email] = args;
  if (!email) throw new Error('Usage: npm run cli -- user:export <email>');
  const userId = await findUserIdByEmail(deps.db, email);
  if (!userId) throw new Error('No user with this email address.');
  print(`${JSON.stringify(await exportUserData(deps, userId), null, 2)}\n`);
}

/**
 * `user:delete <email> --yes`: erases the account as the user's own deletion does (an operator
 * acting on a request received another way). Without `--yes` it only says what it would do.
 */
export async function deleteUserCommand(deps: PrivacyDeps, args: string[], print: Print): Promise<void> {
  const email = args.find((arg) => !arg.startsWith('--'));
  if (!email) throw new Error('Usage: npm run cli -- user:delete <email> --yes');
  const userId = await findUserIdByEmail(deps.db, email);
  if (!userId) throw new Error('No user with this email address.');
  if (!args.includes('--yes')) {
    throw new Error(
      'This deletes the account for good: cancels its subscription, deletes its Stripe customer and erases its data. Run again with --yes.',
    );
  }
  const outcome = await deleteAccount(deps, userId);
  const canceled = outcome.canceledSubscriptions;
  print(`Account deleted${canceled.length > 0 ? `; subscription canceled: ${canceled.join(', ')}` : ''}.\n`);
}
