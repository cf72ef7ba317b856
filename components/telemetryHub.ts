import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { managedByLabel } from "../stacks/names";
import { HubPlan, observabilityNames } from "../stacks/observability";
import { observabilityChart } from "./observabilityChart";

export interface TelemetryHubArgs {
    /** The hub's part of the observability plan. */
    readonly plan: HubPlan;
    /** The hub's observability namespace. */
    readonly namespace: k8s.core.v1.Namespace;
    /** What the hub's pods wait for: injection and the access policies covering them (as ClusterTelemetry). */
    readonly waitFor: readonly pulumi.Resource[];
}

/**
 * The hub: the Prometheus that federates every cluster's through the mesh (with the Services that let the
 * hub's DNS resolve their names), Jaeger, and Grafana with a generated admin password. Create it with
 * `opts.provider` set to the hub's provider.
 */
export class TelemetryHub extends pulumi.ComponentResource {
    public readonly prometheus?: k8s.helm.v3.Release;
    public readonly jaeger?: k8s.helm.v3.Release;
    public readonly grafana?: k8s.helm.v3.Release;
    /** Grafana's admin password: generated once, kept in state as a secret. */
    public readonly grafanaAdminPassword?: pulumi.Output<string>;

    constructor(name: string, args: TelemetryHubArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:observability:TelemetryHub", name, {}, opts);
        const { plan } = args;
        const namespace = args.namespace.metadata.name;
        const stubs = plan.stubs.map(
            (s) =>
                new k8s.core.v1.Service(
                    `${name}/${s.metadata.namespace}/${s.metadata.name}`,
                    { metadata: { ...s.metadata }, spec: s.spec },
                    { parent: this, dependsOn: [args.namespace] },
                ),
        );
        const release = (r: NonNullable<HubPlan["jaeger"]>, dependsOn: pulumi.Resource[] = []) =>
            observabilityChart(`${name}/${r.releaseName}`, r, namespace, {
                parent: this,
                dependsOn: [...args.waitFor, ...dependsOn],
            });
        // The federation targets must resolve from the first scrape: the stubs come first.
        if (plan.prometheus) this.prometheus = release(plan.prometheus, stubs);
        if (plan.jaeger) this.jaeger = release(plan.jaeger);
        if (plan.grafana) {
            const password = new random.RandomPassword(
                `${name}/grafana-admin-password`,
                { length: 32, special: false },
                { parent: this },
            );
            const secret = new k8s.core.v1.Secret(
                `${name}/${observabilityNames.grafanaAdminSecret}`,
                {
                    metadata: {
                        name: observabilityNames.grafanaAdminSecret,
                        namespace,
                        labels: { ...managedByLabel },
                    },
                    type: "Opaque",
                    stringData: {
                        "admin-user": observabilityNames.grafanaAdminUser,
                        "admin-password": password.result,
                    },
                },
                { parent: this, additionalSecretOutputs: ["stringData", "data"] },
            );
            this.grafana = release(plan.grafana, [secret]);
            this.grafanaAdminPassword = pulumi.secret(password.result);
        }
        this.registerOutputs({
            prometheus: this.prometheus,
            jaeger: this.jaeger,
            grafana: this.grafana,
            grafanaAdminPassword: this.grafanaAdminPassword,
        });
    }
}
