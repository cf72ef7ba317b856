/**
 * The local clusters' volume provisioner: a claim of the default StorageClass gets a PersistentVolume made
 * for it (a folder under the cluster's directory, which nothing mounts: no container runs), which the
 * controller manager's volume binder then binds, as a cloud's CSI provisioner would.
 */
import * as path from "node:path";
import { Api } from "./api";
import { log } from "./log";
import { ClusterState } from "./state";

export const defaultStorageClass = "standard";
export const localProvisioner = "e2e.istio-multicluster.local/folder";

interface Claim {
    metadata: { name: string; namespace: string; uid: string };
    spec: {
        storageClassName?: string;
        volumeName?: string;
        accessModes?: string[];
        resources?: { requests?: { storage?: string } };
        volumeMode?: string;
    };
    status?: { phase?: string };
}

export async function provisionVolumes(c: ClusterState, api: Api): Promise<void> {
    const claims = await api.list<Claim>("/api/v1/persistentvolumeclaims");
    for (const claim of claims) {
        if (claim.spec.volumeName || claim.status?.phase === "Bound") continue;
        if ((claim.spec.storageClassName ?? defaultStorageClass) !== defaultStorageClass) continue;
        const name = `pvc-${claim.metadata.uid}`;
        const r = await api.request("POST", "/api/v1/persistentvolumes", {
            apiVersion: "v1",
            kind: "PersistentVolume",
            metadata: { name, annotations: { "pv.kubernetes.io/provisioned-by": localProvisioner } },
            spec: {
                capacity: { storage: claim.spec.resources?.requests?.storage ?? "1Gi" },
                accessModes: claim.spec.accessModes ?? ["ReadWriteOnce"],
                persistentVolumeReclaimPolicy: "Delete",
                storageClassName: defaultStorageClass,
                volumeMode: claim.spec.volumeMode ?? "Filesystem",
                hostPath: { path: path.join(c.dir, "volumes", claim.metadata.uid) },
                claimRef: {
                    apiVersion: "v1",
                    kind: "PersistentVolumeClaim",
                    namespace: claim.metadata.namespace,
                    name: claim.metadata.name,
                    uid: claim.metadata.uid,
                },
            },
        });
        if (r.status === 201)
            log(`${c.name}: volume ${name} for ${claim.metadata.namespace}/${claim.metadata.name}`);
    }
}
