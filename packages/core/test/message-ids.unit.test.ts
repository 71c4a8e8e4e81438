import { describe, expect, it } from "vitest";
import { messageIds } from "../src/message-ids.ts";

describe("messageIds", () => {
  it("keeps the wire format that deduplication in existing streams relies on", () => {
    expect(messageIds.requested("J")).toBe("J:requested");
    expect(messageIds.started("J", 2)).toBe("J:started:2");
    expect(messageIds.progress("J", 2, 7)).toBe("J:progress:2:7");
    expect(messageIds.attemptFailed("J", 2)).toBe("J:failed:2");
    expect(messageIds.finished("J")).toBe("J:finished");
    expect(messageIds.cancelled("J")).toBe("J:cancel");
    expect(messageIds.completed("J")).toBe("J:complete");
  });

  it("gives each writer of an ending its own id, so none is dropped as another's retry", () => {
    const endings = [messageIds.finished("J"), messageIds.cancelled("J"), messageIds.completed("J")];
    expect(new Set(endings).size).toBe(3);
  });
});
