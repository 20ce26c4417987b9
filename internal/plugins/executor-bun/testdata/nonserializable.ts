export default function () {
  return { big: 10n };
}
