/** The supervisor's log line: a timestamp and the text, on standard output (its log file). */
export function log(s: string): void {
    process.stdout.write(`${new Date().toISOString()} ${s}\n`);
}
