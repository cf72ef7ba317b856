#!/usr/bin/env bash
# Functions of the kind recipe (up.sh, down.sh); sourced, and tested against recorded `docker inspect` output.

# The Docker network kind puts its nodes on: kind's own default, or the one KIND_EXPERIMENTAL_DOCKER_NETWORK names.
kind_network() {
    printf '%s\n' "${KIND_EXPERIMENTAL_DOCKER_NETWORK:-kind}"
}

# kind_node_address <container> [network]: the IPv4 address of a kind node container on the kind network,
# read from `docker inspect` (JSON, parsed by node: the project needs node anyway, jq may be absent).
kind_node_address() {
    local container="$1" network="${2:-$(kind_network)}" json
    json="$(docker inspect "$container")" || {
        echo "kind: no container ${container}; did \`kind create cluster\` succeed?" >&2
        return 1
    }
    # The single-quoted text is JavaScript (its ${...} are template literals), not shell.
    # shellcheck disable=SC2016
    NETWORK="$network" CONTAINER="$container" node -e '
        let text = "";
        process.stdin.on("data", (c) => (text += c));
        process.stdin.on("end", () => {
            const [info] = JSON.parse(text);
            const net = info && info.NetworkSettings && info.NetworkSettings.Networks
                ? info.NetworkSettings.Networks[process.env.NETWORK] : undefined;
            if (!net || !net.IPAddress) {
                const have = Object.keys((info && info.NetworkSettings && info.NetworkSettings.Networks) || {});
                console.error(`kind: ${process.env.CONTAINER} has no address on the Docker network ` +
                    `${process.env.NETWORK} (it is on: ${have.join(", ") || "none"})`);
                process.exit(1);
            }
            console.log(net.IPAddress);
        });' <<<"$json"
}

# write_dev_addresses <stack> <primary-ip> <remote-ip>: the node addresses into the stack's config, by path.
write_dev_addresses() {
    local stack="$1" ip1="$2" ip2="$3"
    pulumi config set --stack "$stack" --path 'istio-multicluster:clusters[0].eastWest.address' "$ip1"
    pulumi config set --stack "$stack" --path 'istio-multicluster:clusters[1].eastWest.address' "$ip2"
    # cluster1's istiod reads cluster2's API server at its node address, not the 127.0.0.1 kind writes locally.
    pulumi config set --stack "$stack" --path 'istio-multicluster:clusters[1].apiServer' "https://${ip2}:6443"
}
