// Public surface of the API contract: the route table of /api/v1, its JSON shapes and
// the OpenAPI document made from them. The server and the remote client both use it.
export { API_PREFIX, pathParameters, routeUrl, ROUTES, type Access, type Method, type ReposOf, type Route, type RouteId, type RouteScope } from './routes.ts';
export { SHAPES, type JsonSchema } from './shapes.ts';
export { openApiDocument } from './openapi.ts';
