/**
 * The topologies the rendered and server tiers run: the repository's stacks and every shape of address,
 * network and revision the program handles, each with how its load balancers report their address.
 */
import { loadStackFile, StackConfig } from "../../tools/planner";
import { LbKind } from "./playCluster";
import { mesh, primary, remote, stackConfig, TopologyName, topologies, topologyConfig } from "./fixtures";

/** One topology to plan as an update. */
export interface TopologyCase {
    readonly label: string;
    readonly config: () => StackConfig;
    readonly lb: LbKind;
}

const ewLb = (address?: string) => ({ eastWest: address ? { address } : {} });
const nodePort = (address: string) => ({ eastWest: { serviceType: "NodePort", address } });
const rev = { istio: { version: "1.30.3", revision: "1-30-3" } };

/** Every topology, each a fresh config when asked. */
export const topologyCases: TopologyCase[] = [
    { label: "the dev stack", config: () => loadStackFile("dev"), lb: "ip" },
    { label: "the prod stack", config: () => loadStackFile("prod"), lb: "ip" },
    {
        label: "primary-remote, two networks, load balancer IPs",
        config: () => stackConfig(mesh(), [primary("c1", "n1"), remote("c2", "c1", "n2")]),
        lb: "ip",
    },
    {
        label: "primary-remote, two networks, a fixed hostname, a revision",
        config: () =>
            stackConfig(mesh(rev), [
                primary("c1", "n1", ewLb("ew.c1.example.com")),
                remote("c2", "c1", "n2"),
            ]),
        lb: "ip",
    },
    {
        label: "primary-remote, two networks, a fixed hostname, no revision",
        config: () =>
            stackConfig(mesh(), [primary("c1", "n1", ewLb("ew.c1.example.com")), remote("c2", "c1", "n2")]),
        lb: "hostname",
    },
    {
        label: "primary-remote, one network, load balancer IPs, a revision",
        config: () => stackConfig(mesh(rev), [primary("c1"), remote("c2", "c1")]),
        lb: "ip",
    },
    {
        label: "primary-remote, one network, a fixed hostname",
        config: () =>
            stackConfig(mesh(), [primary("c1", undefined, ewLb("ew.c1.example.com")), remote("c2", "c1")]),
        lb: "ip",
    },
    {
        label: "primary-remote, NodePort at fixed IPs, a revision without the default tag",
        config: () =>
            stackConfig(mesh({ istio: { version: "1.30.3", revision: "canary", defaultTag: false } }), [
                primary("c1", "n1", nodePort("192.0.2.1")),
                remote("c2", "c1", "n2", nodePort("192.0.2.2")),
            ]),
        lb: "ip",
    },
    {
        label: "multi-primary, two networks, load balancers reporting hostnames, a revision",
        config: () => stackConfig(mesh(rev), [primary("c1", "n1"), primary("c2", "n2")]),
        lb: "hostname",
    },
    {
        label: "multi-primary, one network",
        config: () => stackConfig(mesh(), [primary("c1"), primary("c2")]),
        lb: "ip",
    },
    {
        label:
            "three primaries on three networks (NodePort, load balancer, load balancer at a fixed IP), a remote " +
            "on its primary's network, mesh-wide source ranges",
        config: () =>
            stackConfig(mesh({ ...rev, eastWest: { sourceRanges: ["10.0.0.0/8"] } }), [
                primary("c1", "n1"),
                primary("c2", "n2", {
                    eastWest: { serviceType: "NodePort", address: "192.0.2.2", sourceRanges: [] },
                }),
                primary("c3", "n3", ewLb("198.51.100.3")),
                remote("c4", "c1", "n1"),
            ]),
        lb: "ip",
    },
];

// And the canonical topologies every other test uses.
for (const name of Object.keys(topologies) as TopologyName[]) {
    topologyCases.push({
        label: `the canonical topology ${name}`,
        config: () => topologyConfig(name),
        lb: "ip",
    });
}
