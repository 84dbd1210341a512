// Prints one plain closing line, "N passed, M failed, K skipped", as the very last line of a Jest
// run (after Jest's own summary), so tools that read a run's closing line (CI) see the counts.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failedSuites = results.numFailedTestSuites + results.numRuntimeErrorTestSuites;
    // A suite that failed to run has no failed tests of its own: count it, so the line never hides it.
    const failed = results.numFailedTests + (results.numFailedTests === 0 ? failedSuites : 0);
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`;
    process.once('exit', () => process.stdout.write(line));
  }
}
module.exports = SummaryReporter;
