// `npm run spec-tests -- [--version 8.0] [--verbose] <directory or files…>`: runs MongoDB's
// unified-format specification tests against a fresh emulator, one line per file, then
// "N passed, M failed, K skipped". Paths are taken as given or relative to the specifications
// checkout (../shared/conformance/mongodb-specifications); the default is change-streams and crud.
import { SERVER_VERSIONS, type ServerVersion } from '../emulator';
import { collectFiles, runSpecFiles, type FileSummary } from '../test/spec/unified/suite';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  let version: ServerVersion = '8.0';
  let verbose = false;
  const paths: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--version') {
      const value = args[++i];
      if (!(value in SERVER_VERSIONS))
        throw new Error(`--version must be one of ${Object.keys(SERVER_VERSIONS).join(', ')}`);
      version = value as ServerVersion;
    } else if (arg === '--verbose' || arg === '-v') verbose = true;
    else paths.push(arg);
  }
  const files = collectFiles(paths.length > 0 ? paths : ['change-streams', 'crud']);
  const printFile = (file: FileSummary): void => {
    const status = file.failed > 0 ? 'FAIL' : file.passed > 0 ? 'ok  ' : 'skip';
    console.log(
      `${status} ${file.name}: ${file.passed} passed, ${file.failed} failed, ${file.skipped} skipped`,
    );
    for (const result of file.results) {
      if (result.status === 'failed' || (verbose && result.status === 'skipped'))
        console.log(
          `     ${result.status === 'failed' ? '✗' : '-'} ${result.description}: ${result.reason ?? ''}`,
        );
    }
  };
  const summary = await runSpecFiles(files, { version, onFile: printFile });
  console.log(
    `(skipped: ${summary.skippedByRequirements} by runOnRequirements for server ${version}, ${summary.skippedByList} by test/spec/skip-list.json)`,
  );
  console.log(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  return summary.failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
