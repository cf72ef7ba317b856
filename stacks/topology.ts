/**
 * The mesh topology: the typed, validated form of the stack configuration, composed of the core
 * (stacks/core.ts: mesh and clusters) and each feature's section. Everything else in the program receives
 * these plain objects; only `stacks/config.ts` reads Pulumi config and only `stacks/validate/` decides
 * whether a topology is possible. Features import stacks/core.ts, never this file.
 */
import type { CoreTopology } from "./core";
import type { HardeningSettings } from "./hardening";
import type { ObservabilitySettings } from "./observability";
import type { MeshNamespace, SecuritySettings } from "./security";
import type { SmokeTestSettings } from "./smokeTest";
import type { TrafficSpec } from "./traffic";

export * from "./core";

/**
 * Every top-level config key of this project (`istio-multicluster:<key>`) the program reads. A key of the
 * project not listed here is refused as unknown (a misspelling would otherwise be ignored): a new config
 * section adds its key here.
 */
export const topLevelConfigKeys: readonly string[] = [
    "mesh",
    "clusters",
    "namespaces",
    "security",
    "services",
    "externalServices",
    "ingress",
    "smokeTest",
    "hardening",
    "observability",
];

/** The validated topology. */
export interface Topology extends CoreTopology {
    /** Application namespaces, created in every cluster (`istio-multicluster:namespaces`). */
    readonly namespaces: readonly MeshNamespace[];
    /** Mesh-wide security settings (`istio-multicluster:security`). */
    readonly security: SecuritySettings;
    /** Global services, external services and ingress (stacks/traffic/); undefined means none. */
    readonly traffic?: TrafficSpec;
    /** `istio-multicluster:smokeTest`, when enabled: the cross-cluster sample `pulumi up` waits for. */
    readonly smokeTest?: SmokeTestSettings;
    /** `istio-multicluster:hardening` (stacks/hardening.ts); undefined means the default, `mode: full`. */
    readonly hardening?: HardeningSettings;
    /** `istio-multicluster:observability` (stacks/observability/); undefined means no observability. */
    readonly observability?: ObservabilitySettings;
}
