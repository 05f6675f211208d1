// The tenant's event stream as the panel opens it (the session cookie; an agent's stream is
// narrowed to its extension), opened again after a drop.
import { useEffect } from "./lib.js";

export function streamUrl(tenantId, extension) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const only = extension ? `?extension=${encodeURIComponent(extension)}` : "";
  return `${scheme}://${location.host}/api/v1/tenants/${tenantId}/events/stream${only}`;
}

// onEvent(event) for every event; onOpen() each time the stream is (re)opened.
export function useEventStream(tenantId, extension, onEvent, onOpen = () => {}) {
  useEffect(() => {
    let socket, stopped = false;
    const connect = () => {
      socket = new WebSocket(streamUrl(tenantId, extension));
      socket.onmessage = (message) => onEvent(JSON.parse(message.data));
      socket.onopen = onOpen;
      socket.onclose = () => { if (!stopped) setTimeout(connect, 2000); };
    };
    connect();
    return () => { stopped = true; socket.close(); };
  }, [tenantId, extension]);
}
