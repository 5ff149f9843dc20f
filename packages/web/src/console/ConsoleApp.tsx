export function ConsoleApp() {
  return <main id="main"><h1>Tasdiq</h1></main>;
}
