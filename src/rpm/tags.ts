// Tag numbers of the RPM header format (rpm: include/rpm/rpmtag.h). The signature
// header has its own tag space, so its numbers live apart from the main header's.

export const Sig = {
  SIZE: 1000,
  PAYLOADSIZE: 1007,
  LONGSIZE: 270,
  LONGARCHIVESIZE: 271,
  /** Digests (rpm: docs/manual/signatures_digests.md): of the main header, hex strings. */
  SHA1: 269,
  SHA256: 273,
  SHA3_256: 279,
  /** Of main header + payload: 16 binary bytes. */
  MD5: 1004,
  /**
   * OpenPGP signatures (signatures.ts): of the main header (binary packets; rpm 6's
   * OPENPGP is a string array of base64 packets), and of main header + payload.
   */
  DSAHEADER: 267,
  RSAHEADER: 268,
  OPENPGP: 278,
  PGP: 1002,
  GPG: 1005,
} as const;

export const Tag = {
  HEADERI18NTABLE: 100,
  LONGARCHIVESIZE: 271,
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  DESCRIPTION: 1005,
  BUILDTIME: 1006,
  BUILDHOST: 1007,
  SIZE: 1009,
  VENDOR: 1011,
  LICENSE: 1014,
  PACKAGER: 1015,
  GROUP: 1016,
  URL: 1020,
  ARCH: 1022,
  OLDFILENAMES: 1027,
  FILEMODES: 1030,
  FILEDIGESTS: 1035,
  FILEFLAGS: 1037,
  SOURCERPM: 1044,
  ARCHIVESIZE: 1046,
  PROVIDENAME: 1047,
  REQUIREFLAGS: 1048,
  REQUIRENAME: 1049,
  REQUIREVERSION: 1050,
  CONFLICTFLAGS: 1053,
  CONFLICTNAME: 1054,
  CONFLICTVERSION: 1055,
  CHANGELOGTIME: 1080,
  CHANGELOGNAME: 1081,
  CHANGELOGTEXT: 1082,
  OBSOLETENAME: 1090,
  SOURCEPACKAGE: 1106,
  PROVIDEFLAGS: 1112,
  PROVIDEVERSION: 1113,
  OBSOLETEFLAGS: 1114,
  OBSOLETEVERSION: 1115,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  OLDSUGGESTSNAME: 1156,
  OLDSUGGESTSVERSION: 1157,
  OLDSUGGESTSFLAGS: 1158,
  OLDENHANCESNAME: 1159,
  OLDENHANCESVERSION: 1160,
  OLDENHANCESFLAGS: 1161,
  LONGSIZE: 5009,
  RECOMMENDNAME: 5046,
  RECOMMENDVERSION: 5047,
  RECOMMENDFLAGS: 5048,
  SUGGESTNAME: 5049,
  SUGGESTVERSION: 5050,
  SUGGESTFLAGS: 5051,
  SUPPLEMENTNAME: 5052,
  SUPPLEMENTVERSION: 5053,
  SUPPLEMENTFLAGS: 5054,
  ENHANCENAME: 5055,
  ENHANCEVERSION: 5056,
  ENHANCEFLAGS: 5057,
  /** Hex digest of the (compressed) payload, and its OpenPGP hash algorithm id. */
  PAYLOADDIGEST: 5092,
  PAYLOADDIGESTALGO: 5093,
} as const;

/** Header data types (rpm: lib/header.cc typeSizes). */
export const Type = {
  NULL: 0,
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;

/** Dependency sense flags (rpm: include/rpm/rpmds.h). */
export const Sense = {
  LESS: 1 << 1,
  GREATER: 1 << 2,
  EQUAL: 1 << 3,
  PREREQ: 1 << 6,
  SCRIPT_PRE: 1 << 9,
  SCRIPT_POST: 1 << 10,
  MISSINGOK: 1 << 19,
  STRONG: 1 << 27,
} as const;

export const FILE_GHOST = 1 << 6;
