/**
 * Stripe's test cards and the behaviour the emulator gives them. A payment method's behaviour is
 * derived from its card number's last four digits, which is all that is stored.
 */
export type CardBehaviour =
  | 'succeeds'
  | 'attach_then_fail' // 4000000000000341: attaches, every later charge fails
  | 'insufficient_funds' // 4000000000009995: declined (insufficient funds)
  | 'authentication_required'; // 4000002500003155: charges need 3-D Secure unless authenticated on-session

export interface TestCard {
  number: string;
  brand: string;
  behaviour: CardBehaviour;
}

export const TEST_CARDS: TestCard[] = [
  { number: '4242424242424242', brand: 'visa', behaviour: 'succeeds' },
  { number: '5555555555554444', brand: 'mastercard', behaviour: 'succeeds' },
  { number: '4000000000000341', brand: 'visa', behaviour: 'attach_then_fail' },
  { number: '4000000000009995', brand: 'visa', behaviour: 'insufficient_funds' },
  { number: '4000002500003155', brand: 'visa', behaviour: 'authentication_required' },
];

/** The `pm_card_*` tokens Stripe accepts in test mode, mapped to the card they stand for. */
export const TEST_PAYMENT_METHOD_TOKENS: Record<string, string> = {
  pm_card_visa: '4242424242424242',
  pm_card_mastercard: '5555555555554444',
  pm_card_chargeCustomerFail: '4000000000000341',
  pm_card_visa_chargeDeclinedInsufficientFunds: '4000000000009995',
  pm_card_chargeDeclinedInsufficientFunds: '4000000000009995',
  pm_card_authenticationRequired: '4000002500003155',
  pm_card_authenticationRequiredOnSetup: '4000002500003155',
};

export function normaliseCardNumber(input: string): string {
  return input.replace(/[\s-]/g, '');
}

/** Luhn check, so the hosted form rejects mistyped numbers the way Stripe's does. */
export function luhnValid(number: string): boolean {
  if (!/^\d{12,19}$/.test(number)) return false;
  let sum = 0;
  let double = false;
  for (let i = number.length - 1; i >= 0; i--) {
    let digit = Number(number[i]);
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

export function cardForNumber(number: string): TestCard {
  const known = TEST_CARDS.find((card) => card.number === number);
  if (known) return known;
  const brand = number.startsWith('4') ? 'visa' : number.startsWith('5') ? 'mastercard' : 'unknown';
  return { number, brand, behaviour: 'succeeds' };
}

export function behaviourForLast4(last4: string | undefined): CardBehaviour {
  return TEST_CARDS.find((card) => card.number.endsWith(last4 ?? '????'))?.behaviour ?? 'succeeds';
}

export type ChargeOutcome =
  | { kind: 'succeeded' }
  | { kind: 'failed'; code: string; declineCode: string; message: string }
  | { kind: 'requires_action' };

export function chargeOutcome(behaviour: CardBehaviour, authenticated: boolean): ChargeOutcome {
  switch (behaviour) {
    case 'succeeds':
      return { kind: 'succeeded' };
    case 'attach_then_fail':
      return {
        kind: 'failed',
        code: 'card_declined',
        declineCode: 'generic_decline',
        message: 'Your card was declined.',
      };
    case 'insufficient_funds':
      return {
        kind: 'failed',
        code: 'card_declined',
        declineCode: 'insufficient_funds',
        message: 'Your card has insufficient funds.',
      };
    case 'authentication_required':
      return authenticated ? { kind: 'succeeded' } : { kind: 'requires_action' };
  }
}
