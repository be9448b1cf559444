import { hashPassword, verifyPassword } from 'better-auth/crypto';

/**
 * The password hasher Better Auth is given: its own default, scrypt (N=16384, r=16, p=1: 32 MiB
 * per hash), named here so that the paths which must cost the same (sign-up for a new address and
 * for a taken one, sign-in for a known and an unknown one) can be checked to hash the same number
 * of times. Call through the object (`passwordHasher.hash(…)`), never a copy of the method.
 */
export const passwordHasher = {
  hash(password: string): Promise<string> {
    return hashPassword(password);
  },
  verify(data: { hash: string; password: string }): Promise<boolean> {
    return verifyPassword(data);
  },
};
