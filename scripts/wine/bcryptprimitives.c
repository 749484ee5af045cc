/*
 * Test scaffolding for running Inventory Beacon's Windows binaries under
 * Wine (scripts/test-windows.sh); never shipped, never needed on Windows.
 *
 * Go 1.26's runtime loads bcryptprimitives.dll from System32 at start-up
 * and takes its random bytes from ProcessPrng; without it every Go program
 * dies with "bcryptprimitives.dll not found" before main. Windows 10 and
 * later have it; Wine 8.0 (the one Debian 12 ships) does not. This DLL gives
 * Wine's prefix the one export Go asks for, backed by Wine's own
 * BCryptGenRandom with the system-preferred generator, the source Windows'
 * ProcessPrng draws from as well. It is copied into the throw-away prefix
 * of each test run only.
 *
 * Built by scripts/test-windows.sh:
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll \
 *     bcryptprimitives.c bcryptprimitives.def -lbcrypt
 */
#include <windows.h>
#include <bcrypt.h>

/*
 * BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData): fills the buffer and
 * returns TRUE, as documented for Windows. BCryptGenRandom takes a ULONG
 * length, so a larger request is filled in pieces; should the generator
 * ever fail the answer is FALSE, and Go's runtime then stops the program
 * with "ProcessPrng failed" rather than using bytes that are not random.
 */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
	while (size > 0) {
		ULONG n = size > 0x40000000 ? 0x40000000 : (ULONG)size;
		if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
			return FALSE;
		data += n;
		size -= n;
	}
	return TRUE;
}
