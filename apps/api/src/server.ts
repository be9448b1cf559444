import { type Config, ConfigError, loadConfig } from './config.ts';

/**
 * Entry point. The configuration is checked before the rest of the server is loaded, so a bad
 * variable is refused at once, with a message that names it and never prints its value.
 */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Tierbase cannot start. ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const { serve } = await import('./serve.ts');
  await serve(config);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Tierbase failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
