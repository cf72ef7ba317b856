/**
 * `@kubernetes/client-node`'s typings import `ws`, whose own typings (`@types/ws`) are not a dependency of
 * this project. verify uses no WebSocket API itself (client-node's PortForward does), so this declares only
 * the names those typings refer to.
 */
declare module "ws" {
    import type { EventEmitter } from "node:events";
    import type { RequestOptions } from "node:https";
    class WebSocketClient extends EventEmitter {
        readonly readyState: number;
        close(code?: number): void;
        send(data: unknown): void;
    }
    namespace WebSocketClient {
        type ClientOptions = RequestOptions & Record<string, unknown>;
        type WebSocket = WebSocketClient;
        const WebSocket: typeof WebSocketClient;
    }
    export = WebSocketClient;
}
