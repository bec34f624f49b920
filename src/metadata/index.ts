// Public surface of the YUM metadata layer.
export { writePackageMetadata, renderPackage, DEFAULT_CHANGELOG_LIMIT } from './repodata-writer.ts';
export type { RepodataOptions, RenderedPackage } from './repodata-writer.ts';
export { MetadataFileWriter } from './file-writer.ts';
export type { FileWriterOptions } from './file-writer.ts';
export { renderRepomd, parseRepomd, parseDistro, compareRecords, RepomdError, REPOMD_MAX_BYTES, REPOMD_HREF, REPOMD_SIGNATURE_HREF, REPOMD_KEY_HREF, REPOMD_FILES, isRepomdFile } from './repomd.ts';
export type { Repomd, RepomdRecord, Checksum, Distro } from './repomd.ts';
export { COMPRESSION_TYPES, SUFFIX, isCompressionType, compressionOf, stripCompressionSuffix, createDecompressor, decompressBuffer, limitBytes, DecompressionLimitError } from './compression.ts';
export { splitPrimary, splitByPkgid, unescapeXml } from './chunks.ts';
export type { PrimaryChunk } from './chunks.ts';
export type { CompressionType } from './compression.ts';
export { primaryPackage } from './primary.ts';
export { filelistsPackage } from './filelists.ts';
export { otherPackage, selectChangelogs } from './other.ts';
export { readPackageRecords, parsePrimary, eachPrimaryPackage, parseFilelists, parseOther, parseUpdateinfo, MetadataParseError, DEFAULT_PARSE_LIMITS } from './reader.ts';
export type { Advisory, ParseLimits } from './reader.ts';
export { primaryHeader, PRIMARY_FOOTER } from './primary.ts';
export { filelistsHeader, FILELISTS_FOOTER } from './filelists.ts';
export { otherHeader, OTHER_FOOTER } from './other.ts';
