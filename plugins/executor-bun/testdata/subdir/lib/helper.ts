export const helper = () => "ok";
