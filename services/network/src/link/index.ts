export { InboundFlow, type ReadingControl } from "./inbound-flow.js";
export { Link, type LinkEvent, type PayloadSender } from "./link.js";
