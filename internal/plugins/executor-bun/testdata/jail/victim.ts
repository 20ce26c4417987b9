export default () => "victim-ok";
