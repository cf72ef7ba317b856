/**
 * A small Kubernetes REST client for the local clusters and the tiers that use them: JSON requests by path
 * with a client certificate or a bearer token, verified against the cluster's CA. Nothing else: the tests
 * must see exactly what the API server answers.
 */
import * as https from "node:https";

/** How to reach and authenticate to one API server. */
export interface ApiAccess {
    /** `https://127.0.0.1:<port>`. */
    readonly server: string;
    /** The CA that signed the serving certificate (PEM). */
    readonly ca: string;
    /** A client certificate and key (PEM). */
    readonly cert?: string;
    readonly key?: string;
    /** Or a bearer token. */
    readonly token?: string;
}

/** An answer of the API server. */
export interface ApiResponse {
    readonly status: number;
    readonly body: string;
}

/** A Kubernetes `Status` or object, as parsed JSON. */
export type Json = Record<string, unknown>;

/** A failed request: the method, path, status and the server's own message. */
export class ApiError extends Error {
    constructor(
        public readonly method: string,
        public readonly path: string,
        public readonly status: number,
        public readonly serverMessage: string,
    ) {
        super(`${method} ${path}: HTTP ${status}: ${serverMessage}`);
        this.name = "ApiError";
    }
}

/** The message of a `Status` body, else the body itself (cut). */
export function statusMessage(body: string): string {
    try {
        const m = (JSON.parse(body) as { message?: unknown }).message;
        if (typeof m === "string" && m !== "") return m;
    } catch {
        // not JSON
    }
    return body.slice(0, 500);
}

/** A client for one API server. */
export class Api {
    private readonly agent: https.Agent;

    constructor(
        public readonly access: ApiAccess,
        private readonly timeoutMs = 30_000,
    ) {
        this.agent = new https.Agent({
            keepAlive: true,
            maxSockets: 16,
            ca: access.ca,
            ...(access.cert && access.key ? { cert: access.cert, key: access.key } : {}),
        });
    }

    /** One request; resolves with any HTTP answer, rejects only when the server cannot be reached. */
    request(
        method: string,
        path: string,
        body?: unknown,
        contentType = "application/json",
    ): Promise<ApiResponse> {
        const url = new URL(this.access.server.replace(/\/$/, "") + path);
        const payload =
            body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
        const headers: Record<string, string> = { Accept: "application/json" };
        if (payload !== undefined) {
            headers["Content-Type"] = contentType;
            headers["Content-Length"] = String(Buffer.byteLength(payload));
        }
        if (this.access.token) headers.Authorization = `Bearer ${this.access.token}`;
        return new Promise((resolve, reject) => {
            const req = https.request(
                url,
                { method, headers, agent: this.agent, timeout: this.timeoutMs },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () =>
                        resolve({
                            status: res.statusCode ?? 0,
                            body: Buffer.concat(chunks).toString("utf8"),
                        }),
                    );
                    res.on("error", reject);
                },
            );
            req.on("timeout", () =>
                req.destroy(new Error(`${method} ${path}: no answer in ${this.timeoutMs} ms`)),
            );
            req.on("error", reject);
            if (payload !== undefined) req.write(payload);
            req.end();
        });
    }

    /** A request whose answer must be 2xx; its body as JSON. */
    async json<T = Json>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
        const r = await this.request(method, path, body, contentType);
        if (r.status < 200 || r.status > 299)
            throw new ApiError(method, path, r.status, statusMessage(r.body));
        return (r.body ? JSON.parse(r.body) : {}) as T;
    }

    /** GET as JSON, undefined on 404. */
    async get<T = Json>(path: string): Promise<T | undefined> {
        const r = await this.request("GET", path);
        if (r.status === 404) return undefined;
        if (r.status !== 200) throw new ApiError("GET", path, r.status, statusMessage(r.body));
        return JSON.parse(r.body) as T;
    }

    /** The items of a list. */
    async list<T = Json>(path: string): Promise<T[]> {
        return (await this.json<{ items?: T[] }>("GET", path)).items ?? [];
    }

    /** Server-side apply of one object (`fieldManager`, forced), optionally as a dry run. */
    apply(path: string, object: unknown, fieldManager: string, dryRun = false): Promise<ApiResponse> {
        const q = `?fieldManager=${encodeURIComponent(fieldManager)}&force=true${dryRun ? "&dryRun=All" : ""}`;
        return this.request("PATCH", path + q, object, "application/apply-patch+yaml");
    }

    /** Closes kept-alive connections. */
    close(): void {
        this.agent.destroy();
    }
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes; the last error is kept. */
export async function waitFor<T>(
    what: string,
    timeoutMs: number,
    probe: () => Promise<T | undefined>,
    everyMs = 250,
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const v = await probe();
            if (v !== undefined) return v;
        } catch (e) {
            last = e;
        }
        if (Date.now() > deadline) {
            const why = last instanceof Error ? `: ${last.message}` : "";
            throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)}s${why}`);
        }
        await sleep(everyMs);
    }
}
