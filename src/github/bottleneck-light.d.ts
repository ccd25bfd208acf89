// The throttling plugin schedules with bottleneck's light build; its groups must come from the
// same build, which ships without its own type declarations.
declare module 'bottleneck/light.js' {
  import Bottleneck from 'bottleneck'
  export default Bottleneck
}
