/**
 * Hostname load balancers (`--lb hostname`): as a cloud's DNS would, each hostname resolves to the load
 * balancer's loopback address, through /etc/hosts (the one resolver every process here reads, Go's and
 * glibc's alike). Every line carries a marker naming the directory that added it; `down` removes exactly those.
 */
import * as fs from "node:fs";

/** /etc/hosts, or `$E2E_HOSTS_FILE` (tests). */
function hostsFile(): string {
    return process.env.E2E_HOSTS_FILE ?? "/etc/hosts";
}

function marker(dir: string): string {
    return `# istio-multicluster-e2e ${dir}`;
}

/** Adds `hostname → address` for `dir` unless present. */
export function addHostsEntry(dir: string, hostname: string, address: string): void {
    const line = `${address} ${hostname} ${marker(dir)}`;
    const text = fs.existsSync(hostsFile()) ? fs.readFileSync(hostsFile(), "utf8") : "";
    if (text.split("\n").includes(line)) return;
    // /etc/hosts may be a bind mount: written in place, never replaced.
    fs.appendFileSync(hostsFile(), (text === "" || text.endsWith("\n") ? "" : "\n") + line + "\n");
}

/** Removes every line `dir` added. */
export function removeHostsEntries(dir: string): void {
    if (!fs.existsSync(hostsFile())) return;
    const text = fs.readFileSync(hostsFile(), "utf8");
    const m = marker(dir);
    const kept = text.split("\n").filter((l) => !l.endsWith(m));
    if (kept.length === text.split("\n").length) return;
    try {
        fs.writeFileSync(hostsFile(), kept.join("\n"));
    } catch {
        // not writable: nothing of ours can be there either
    }
}
