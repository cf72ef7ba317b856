/**
 * The clusters' network: a network namespace per `up` (state.ts has the address plan), made and removed with
 * iproute2's `ip`. Needs root (CAP_NET_ADMIN), as kind needs a container engine.
 */
import { execFileSync } from "node:child_process";
import { ClustersRefused } from "./build";
import { networkPlan } from "./state";

function ip(args: string[]): string {
    return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function tryIp(args: string[]): void {
    try {
        ip(args);
    } catch {
        // already gone
    }
}

/** Whether the namespace exists. */
export function netnsExists(name: string): boolean {
    try {
        return ip(["netns", "list"])
            .split("\n")
            .some((l) => l.split(" ")[0] === name);
    } catch {
        return false;
    }
}

/** Makes slot `slot`'s namespace, veth and routes; refuses with one line when it cannot. */
export function createNetwork(slot: number): void {
    const n = networkPlan(slot);
    removeNetwork(slot);
    try {
        ip(["netns", "add", n.netns]);
    } catch (e) {
        const why = ((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split("\n")[0];
        throw new ClustersRefused(
            `the clusters need a network namespace of their own and could not make one (ip netns add: ${why}); ` +
                `run as root with iproute2 installed`,
        );
    }
    try {
        const inNs = (args: string[]) => ip(["-n", n.netns, ...args]);
        inNs(["link", "set", "lo", "up"]);
        inNs(["addr", "add", n.clusterRange, "dev", "lo"]);
        ip(["link", "add", n.hostVeth, "type", "veth", "peer", "name", n.nsVeth]);
        ip(["link", "set", n.nsVeth, "netns", n.netns]);
        ip(["addr", "add", `${n.hostIp}/24`, "dev", n.hostVeth]);
        ip(["link", "set", n.hostVeth, "up"]);
        inNs(["addr", "add", `${n.nsIp}/24`, "dev", n.nsVeth]);
        inNs(["link", "set", n.nsVeth, "up"]);
        // This host reaches the pods and load balancers too (tests, debug endpoints); the namespace gets no
        // default route: nothing inside can reach past this host.
        ip(["route", "add", n.clusterRange, "via", n.nsIp, "dev", n.hostVeth]);
    } catch (e) {
        removeNetwork(slot);
        const why = ((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split("\n")[0];
        throw new ClustersRefused(`could not set up the clusters' network namespace ${n.netns}: ${why}`);
    }
}

/** Removes the namespace (its veth and routes go with it). */
export function removeNetwork(slot: number): void {
    const n = networkPlan(slot);
    tryIp(["link", "del", n.hostVeth]);
    if (netnsExists(n.netns)) tryIp(["netns", "del", n.netns]);
}

/** The command line that runs `argv` inside the namespace. */
export function inNetns(netns: string, argv: readonly string[]): [string, string[]] {
    return ["ip", ["netns", "exec", netns, ...argv]];
}
