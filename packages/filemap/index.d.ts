/** An ArrayBuffer over the first `length` bytes of the file `fd`, shared with it (read and write). */
export declare function mapShared(fd: number, length: number): ArrayBuffer;
/** Reserves the file's disk blocks for the range (posix_fallocate): 0, or the errno it failed with. */
export declare function allocate(fd: number, offset: number, length: number): number;
/** Gives the whole pages inside the range back to the kernel; touching them again reads the file. */
export declare function releasePages(buffer: ArrayBuffer, offset: number, length: number): void;
