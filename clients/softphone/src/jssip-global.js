// JsSIP for a plain page: the bundle puts it on window.JsSIP.
import * as JsSIP from "jssip";

window.JsSIP = JsSIP;
