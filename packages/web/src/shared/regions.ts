/** The 14 first-level subdivisions of Uzbekistan, the same table the offices API filters by. */
export { REGIONS } from '@tasdiq/server/offices/regions.ts';
