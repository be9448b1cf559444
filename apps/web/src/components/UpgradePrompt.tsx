import { ButtonLink } from './Button.tsx';

/** What a free user sees where a Pro feature would be. */
export function UpgradePrompt({ feature = 'This feature' }: { feature?: string }) {
  return (
    <section
      aria-labelledby="upgrade-title"
      className="rounded-2xl border border-brand/40 bg-brand-soft p-6 text-center sm:p-10"
    >
      <p className="text-sm font-semibold uppercase tracking-wide text-brand-fg">Pro feature</p>
      <h2 id="upgrade-title" className="mt-2 text-2xl font-bold">
        {feature} is part of Pro
      </h2>
      <p className="mx-auto mt-2 max-w-md text-muted">
        Upgrade to unlock the AI assistant, streaming answers and your full history. Start with a free trial;
        cancel anytime.
      </p>
      <div className="mt-6 flex justify-center">
        <ButtonLink to="/pricing" size="lg">
          See plans and upgrade
        </ButtonLink>
      </div>
    </section>
  );
}
