import type blessed from "blessed";
import type { SessionClient } from "../client.js";
import type { Store } from "../state/store.js";
import type { KeyRouter } from "../widgets/keyboard.js";

/** What a dialog needs: where to draw, who gets keys, the API, the state, a status line. */
export interface DialogContext {
  screen: blessed.Widgets.Screen;
  router: KeyRouter;
  client: SessionClient;
  store: Store;
  notice: (text: string) => void;
  settings: { notifications: boolean };
}
