import blessed from "blessed";
import { formatFingerprint } from "@jarvis/core";
import type { SessionClient } from "../client.js";
import { safe } from "./format.js";

/**
 * Contact details: uid, fingerprint and the safety number to compare out of band; `v`
 * toggles the local "verified" mark. Escape or q closes it.
 */
export async function showContactDetails(screen: blessed.Widgets.Screen, client: SessionClient, uid: string): Promise<void> {
  const { contact } = await client.getContact({ contact: uid });
  if (!contact) return;
  const { formatted } = await client.getSafetyNumber({ contact: uid });
  let verified = contact.verified;
  const previous = screen.focused;
  const box = blessed.box({
    parent: screen,
    top: "center",
    left: "center",
    width: "90%",
    height: 12,
    border: "line",
    label: ` ${safe(contact.alias || contact.name)} `,
    tags: true,
    keys: true,
  });
  const render = () => {
    box.setContent(
      [
        `name         ${safe(contact.name)}${contact.alias ? ` (alias ${safe(contact.alias)})` : ""}`,
        `uid          ${contact.uid}`,
        `fingerprint  ${formatFingerprint(contact.fingerprint)}`,
        `addresses    ${safe(contact.addresses.join(", ") || "none known")}`,
        "",
        `safety number  {bold}${formatted}{/bold}`,
        `verified       ${verified ? "{green-fg}yes{/green-fg}" : "{yellow-fg}no{/yellow-fg} — compare the safety number with them, then press v"}`,
        "",
        "v toggle verified   Esc close",
      ].join("\n"),
    );
    screen.render();
  };
  render();
  box.focus();
  await new Promise<void>((resolve) => {
    box.key(["v"], () => {
      void client.updateContact({ contact: uid, verified: !verified }).then(() => {
        verified = !verified;
        render();
      });
    });
    box.key(["escape", "q"], () => {
      box.destroy();
      previous?.focus();
      screen.render();
      resolve();
    });
  });
}
