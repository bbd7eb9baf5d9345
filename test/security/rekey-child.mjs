// Child process of rekey-crash.test.ts: opens a profile and changes its password, saying
// "ready" just before the change starts, so the parent can SIGKILL it inside the change.
import { profilePaths } from "@jarvis/core";
import { changePassword, openAccount, Store } from "@jarvis/session/testing";

const [home, oldPassword, newPassword] = process.argv.slice(2);
const paths = profilePaths(home);
const { db } = await openAccount(paths, oldPassword);
const store = new Store(db, Date.now);
process.stdout.write("ready\n");
await changePassword(paths, store, oldPassword, newPassword);
store.close();
process.stdout.write("done\n");
