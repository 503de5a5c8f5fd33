// Runs one suite in its own process (forked by run.mjs with --expose-gc), so every
// suite starts with a cold, unshared JIT and heap. Streams rows back over IPC as
// they finish, so a suite that crashes or times out still reports what it measured.
//
//   node --expose-gc bench/lib/suite-child.mjs <suite file> '<options json>'
import { pathToFileURL } from 'node:url';
import { Report } from './report.mjs';

const [file, optionsJson] = process.argv.slice(2);
const options = JSON.parse(optionsJson);
const send = (msg) => new Promise((resolve) => process.send(msg, () => resolve()));

try {
  const suite = await import(pathToFileURL(file).href);
  const pending = [];
  const report = new Report(
    suite.name,
    options,
    (row) => pending.push(send({ type: 'row', row })),
    (text) => pending.push(send({ type: 'note', text })),
  );
  await suite.run(report);
  await Promise.all(pending);
  await send({ type: 'done' });
  process.exit(0);
} catch (error) {
  await send({ type: 'error', message: String(error?.stack ?? error) });
  process.exit(1);
}
