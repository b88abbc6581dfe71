/** Placeholder: being written (issue 5). Absent until then. */
import type { DecodedPayload } from "../codecs";
import type { Store } from "../store";

export function createGateLines(_container: HTMLElement, _store: Store, _payload: DecodedPayload): (() => void) | null {
  return null;
}
