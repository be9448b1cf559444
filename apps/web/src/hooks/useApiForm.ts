import { useMutation } from '@tanstack/react-query';
import { type ChangeEvent, type FormEvent, useState } from 'react';
import { errorMessage, fieldErrors } from '../lib/errors.ts';

/**
 * What the hook needs of a zod schema: the contracts' request schemas (packages/contracts) are
 * what the API validates with, so the form checks the same rules before it sends anything.
 */
export interface RequestSchema<Request> {
  safeParse(
    input: unknown,
  ):
    | { success: true; data: Request }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

type Values = Record<string, string>;

export interface ApiFormOptions<V extends Values, Request, Result> {
  initial: V;
  /** The contract's request schema; a value it refuses is shown on its field and nothing is sent. */
  schema: RequestSchema<Request>;
  /** The request the values make (by default the values themselves). */
  toRequest?: (values: V) => unknown;
  /** Checks only the form knows (two passwords that must match), as field name → message. */
  validate?: (values: V) => Partial<Record<keyof V, string>>;
  submit: (request: Request) => Promise<Result>;
  /** What follows an accepted request; while a promise it returns runs, the form still counts as sending. */
  onSuccess?: (result: Result) => unknown;
  /** Empties the fields once the server has accepted them (passwords). */
  clearOnSuccess?: boolean;
  /** Forgets the last answer (a "Saved." line, an error) as soon as a field changes. */
  resetOnChange?: boolean;
}

const CORRECT_FIELDS = 'Please correct the highlighted fields.';

const NO_ERRORS: { fields: Record<string, string>; form: string | null } = { fields: {}, form: null };

/** The first message per top-level field, as the API's envelope maps them (lib/errors.ts). */
function issuesByField(issues: readonly { path: readonly PropertyKey[]; message: string }[]) {
  const out: Record<string, string> = {};
  for (const issue of issues) {
    const field = String(issue.path[0] ?? '');
    if (field && !out[field]) out[field] = issue.message;
  }
  return out;
}

/**
 * One form's state: its values, the mutation that sends them, and the errors to show — from the
 * contract's schema before sending, from the form's own checks, and from the API's error envelope
 * (`details` per field, the message for the whole form), each put on the field it is about.
 */
export function useApiForm<V extends Values, Request, Result>(options: ApiFormOptions<V, Request, Result>) {
  const [values, setValues] = useState<V>(options.initial);
  const [local, setLocal] = useState(NO_ERRORS);
  const mutation = useMutation({
    mutationFn: options.submit,
    onSuccess: (result) => {
      if (options.clearOnSuccess) setValues(options.initial);
      return options.onSuccess?.(result);
    },
  });

  const setValue = (name: keyof V & string, value: string) => {
    setValues((current) => ({ ...current, [name]: value }));
    if (options.resetOnChange) {
      setLocal(NO_ERRORS);
      mutation.reset();
    }
  };

  /** Back to the start: the initial values, no errors, no answer. */
  const reset = () => {
    setValues(options.initial);
    setLocal(NO_ERRORS);
    mutation.reset();
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const own = Object.fromEntries(
      Object.entries(options.validate?.(values) ?? {}).filter((entry): entry is [string, string] =>
        Boolean(entry[1]),
      ),
    );
    const parsed = options.schema.safeParse(options.toRequest ? options.toRequest(values) : values);
    const schemaErrors = parsed.success ? {} : issuesByField(parsed.error.issues);
    setLocal({
      fields: { ...schemaErrors, ...own },
      form: Object.keys(schemaErrors).length > 0 ? CORRECT_FIELDS : null,
    });
    if (!parsed.success || Object.keys(own).length > 0) return;
    mutation.mutate(parsed.data);
  };

  const errors: Record<string, string | undefined> = { ...fieldErrors(mutation.error), ...local.fields };
  const formError = local.form ?? (mutation.error ? errorMessage(mutation.error) : null);

  /** The props of a `<Field>` for one value: name, value, onChange and its error. */
  const field = (name: keyof V & string) => ({
    name,
    value: values[name],
    onChange: (event: ChangeEvent<HTMLInputElement>) => setValue(name, event.target.value),
    error: errors[name],
  });

  return { values, setValue, reset, field, errors, formError, onSubmit, mutation };
}
