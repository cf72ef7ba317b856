/** Values of Istio's `base` chart (see common.ts for how these shapes were checked). */
import type { ProfileSelection, ResourceScope } from "./common";

/** `global` block of the `base` chart. Only these four keys exist there (not `externalIstiod`). */
export interface BaseGlobalValues {
    /** Image pull secret names for the control plane ServiceAccount. Default `[]`. */
    readonly imagePullSecrets?: readonly string[];
    /** Namespace istiod runs in. Default `istio-system`. */
    readonly istioNamespace?: string;
    /** Which resources are rendered. Default `all`. */
    readonly resourceScope?: ResourceScope;
    /** Install the `istio-reader` ServiceAccount and its RBAC (used by remote secrets). Default `true`. */
    readonly enableReaderRBAC?: boolean;
}

/** `base` block of the `base` chart: CRDs and the default-revision validating webhook. */
export interface BaseChartSettings {
    /** CRD names to leave out, e.g. `envoyfilters.networking.istio.io`. Needs `enableCRDTemplates`. Default `[]`. */
    readonly excludedCRDs?: readonly string[];
    /** Render the CRDs as ordinary templates so that Helm upgrades them. Default `true`. */
    readonly enableCRDTemplates?: boolean;
    /** URL of the validation webhook, e.g. `https://<remotePilotAddress>:15017/validate`. Default `""`. */
    readonly validationURL?: string;
    /** CA bundle for the validation webhook, when istiod serves a well-known cert. Default `""`. */
    readonly validationCABundle?: string;
    /** Install the Istio configuration CRDs (istioctl sets `false`). Default `true`. */
    readonly enableIstioConfigCRDs?: boolean;
}

/** Values of the `base` chart (CRDs, cluster roles, default-revision webhook). */
export interface BaseValues extends ProfileSelection {
    /** Settings shared with the other charts. */
    readonly global?: BaseGlobalValues;
    /** CRD and webhook settings. */
    readonly base?: BaseChartSettings;
    /** The istiod revision the default validating webhook points at. Default `"default"`. */
    readonly defaultRevision?: string;
    /** Experimental features. */
    readonly experimental?: {
        /** Install a stable ValidatingAdmissionPolicy. Default `false`. */
        readonly stableValidationPolicy?: boolean;
    };
}
