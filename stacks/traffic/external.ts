/** Reads `istio-multicluster:externalServices`: hosts outside the mesh, their ports, endpoints and TLS origination. */
import { excerpt, isIpAddress, isObject } from "../checks";
import { ExternalPort, ExternalService, externalProtocols, istioSystem } from "./types";
import { P, Problems, dnsName, prune, secretName } from "./problems";

export function readExternal(p: Problems, raw: unknown, i: number): ExternalService | undefined {
    const path = `${P}:externalServices[${i}]`;
    if (!isObject(raw)) return p.fail(path, `must be a map, got ${excerpt(raw)}`);
    p.keys(raw, path, ["name", "namespace", "hosts", "resolution", "ports", "endpoints", "tls"]);
    const name = p.label(raw.name, `${path}.name`, true);
    const namespace = p.label(raw.namespace, `${path}.namespace`) ?? istioSystem;
    const resolution = p.oneOf(raw.resolution, `${path}.resolution`, ["DNS", "STATIC"] as const, "DNS");
    const hosts: string[] = [];
    const rawHosts = p.requiredList(
        raw.hosts,
        `${path}.hosts`,
        "host names",
        "list the external host names, e.g. `[api.example.com]`",
        "host",
    );
    rawHosts?.forEach((h, j) => {
        const hp = `${path}.hosts[${j}]`;
        if (typeof h === "string" && isIpAddress(h)) {
            // Istio checks a ServiceEntry host as DNS labels: an IPv6 literal (with its colons) is refused.
            if (h.includes(":"))
                return p.fail(
                    hp,
                    `${excerpt(h)} is an IPv6 address, which Istio does not take as a host; give the service a DNS name here and the address in \`endpoints\` with \`resolution: STATIC\``,
                );
            if (resolution === "DNS")
                return p.fail(
                    hp,
                    `${excerpt(h)} is an IP address, which DNS resolution cannot resolve; use its DNS name, or \`resolution: STATIC\` with the address in \`endpoints\``,
                );
            hosts.push(h);
            return;
        }
        const host = p.string(h, hp, dnsName, "a fully qualified DNS name such as api.example.com");
        if (host !== undefined) hosts.push(host);
    });
    const ports: ExternalPort[] = [];
    const rawPorts = p.requiredList(
        raw.ports,
        `${path}.ports`,
        "ports",
        "list the ports, e.g. `[{ number: 443, protocol: TLS }]`",
        "port",
    );
    rawPorts?.forEach((rp, j) => {
        const pp = `${path}.ports[${j}]`;
        if (!isObject(rp))
            return p.fail(pp, `must be a map with \`number\` and \`protocol\`, got ${excerpt(rp)}`);
        p.keys(rp, pp, ["number", "protocol", "name", "targetPort"]);
        const number = p.port(rp.number, `${pp}.number`);
        const protocol =
            rp.protocol === undefined
                ? p.fail(`${pp}.protocol`, `required; set one of: ${externalProtocols.join(", ")}`)
                : p.oneOf(rp.protocol, `${pp}.protocol`, externalProtocols);
        const portName = p.label(rp.name, `${pp}.name`);
        const targetPort = p.port(rp.targetPort, `${pp}.targetPort`, false);
        if (number !== undefined && ports.some((x) => x.number === number))
            return p.fail(`${pp}.number`, `${number} is listed twice; list each port once`);
        if (number !== undefined && protocol !== undefined) {
            // Given or derived (`<protocol>-<number>`), each name once: Istio refuses a ServiceEntry that
            // repeats a port name.
            const name = portName ?? `${protocol.toLowerCase()}-${number}`;
            const same = ports.findIndex((x) => x.name === name);
            if (same >= 0)
                return p.fail(
                    `${pp}.name`,
                    `${excerpt(name)}${portName === undefined ? " (derived from protocol and number)" : ""} is ` +
                        `also the name of ports[${same}]; give each port a name of its own`,
                );
            ports.push(prune({ number, name, protocol, targetPort }));
        }
    });
    let endpoints: string[] | undefined;
    const rawEndpoints = p.list(raw.endpoints, `${path}.endpoints`, "IP addresses");
    if (resolution === "STATIC") {
        if (!rawEndpoints || rawEndpoints.length === 0)
            p.fail(
                `${path}.endpoints`,
                "required with `resolution: STATIC`; list the IP addresses behind the hosts",
            );
        endpoints = [];
        rawEndpoints?.forEach((e, j) => {
            if (typeof e !== "string" || !isIpAddress(e))
                return p.fail(`${path}.endpoints[${j}]`, `${excerpt(e)} is not an IP address`);
            endpoints!.push(e);
        });
    } else if (rawEndpoints !== undefined) {
        p.fail(
            `${path}.endpoints`,
            "only with `resolution: STATIC`; remove it (DNS resolves the hosts) or set STATIC",
        );
    }
    let tls: ExternalService["tls"];
    const t = p.map(raw.tls, `${path}.tls`);
    if (t) {
        p.keys(t, `${path}.tls`, ["mode", "sni", "credentialName"]);
        const mode = p.oneOf(t.mode, `${path}.tls.mode`, ["SIMPLE", "MUTUAL"] as const, "SIMPLE");
        const sni = p.string(t.sni, `${path}.tls.sni`, dnsName, "a DNS name");
        const credentialName = p.string(
            t.credentialName,
            `${path}.tls.credentialName`,
            secretName,
            "a Secret name",
        );
        if (mode === "MUTUAL" && t.credentialName === undefined) {
            p.fail(
                `${path}.tls.credentialName`,
                "required with mode MUTUAL; name the Secret holding the client certificate and key",
            );
        }
        // The sidecar originates TLS on what the caller sends in plain text; a TLS port would be encrypted twice.
        ports.forEach((port) => {
            if (port.protocol === "HTTPS" || port.protocol === "TLS") {
                p.fail(
                    `${path}.tls`,
                    `originates TLS, but port ${port.number} (${port.protocol}) already carries the caller's TLS; ` +
                        `give that port protocol HTTP (with targetPort 443) or TCP, or remove \`tls\``,
                );
            }
        });
        if (mode !== undefined) tls = prune({ mode, sni, credentialName });
    }
    if (name === undefined) return undefined;
    return prune({
        name,
        namespace,
        hosts,
        resolution: resolution ?? "DNS",
        ports,
        endpoints,
        tls,
        index: i,
    });
}
