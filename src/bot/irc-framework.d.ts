// irc-framework ships no type declarations; src/bot/irc.ts types the part it uses (IrcClient there).
declare module 'irc-framework';
