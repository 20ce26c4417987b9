import { helper } from "./helper";
export default () => ({ helper: helper() });
