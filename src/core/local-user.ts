// The local user's passwd entry, read once per process: OpenSSH takes ~ and the default user from it,
// and asking for each host read /etc/passwd six times per host of a fleet.
import { type UserInfo, userInfo } from 'node:os';

let me: UserInfo<string> | undefined;

export const localUser = (): UserInfo<string> => (me ??= userInfo());
