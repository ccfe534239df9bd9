/**
 * A customer's journey through the bookshop API, typed only by the types openapi-typescript
 * generates from the live OpenAPI schema (src/schema.d.ts, see check.sh): browse, fill a cart
 * anonymously, sign in (the cart is merged), add another book, check out, read the order.
 *
 * No casts, no `any`: if this stops type-checking, the schema no longer describes the journey.
 */
import createClient, { type Client } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

type Schemas = components["schemas"];

export type Problem = Schemas["Problem"];
export type BookPage = Schemas["BookPage"];
export type BookDetail = Schemas["BookDetailOutput"];
export type Cart = Schemas["Cart"];
export type CartMerge = Schemas["CartMerge"];
export type Order = Schemas["OrderOutput"];
export type PaymentProvider = Schemas["PaymentProviderEnum"];
export type Credentials = Schemas["TokenObtainInputRequest"];
export type CheckoutInput = Schemas["CheckoutInputRequest"];
/** `shipping_address` is a saved address id or an address given in full: this is the latter. */
export type InlineAddress = Exclude<CheckoutInput["shipping_address"], number>;
export type BookQuery = NonNullable<operations["books_list"]["parameters"]["query"]>;
export type CartItemInput = Schemas["CartItemAddInputRequest"];

export type Api = Client<paths>;

/** Headers a response declares in the schema (the generated index signature left out). */
type DeclaredHeader<R> = R extends { headers: infer H }
  ? Extract<keyof { [K in keyof H as string extends K ? never : K]: H[K] }, string>
  : never;

type CartItemCreated = operations["cart_items_create"]["responses"][201];

/** An API error: the `application/problem+json` body every error of the API carries. */
export class ProblemError extends Error {
  override readonly name = "ProblemError";

  constructor(
    readonly operation: string,
    readonly problem: Problem,
  ) {
    super(`${operation}: ${problem.status} ${problem.code}: ${problem.detail}`);
  }

  get status(): number {
    return this.problem.status;
  }

  get code(): string {
    return this.problem.code;
  }

  /** The messages on one input field (`"quantity"`, nested ones dotted: `"lines.0"`). */
  fieldErrors(field: string): readonly string[] {
    return this.problem.errors?.[field] ?? [];
  }
}

/** What openapi-fetch answers: the success body, or the error body, and the response. */
interface Answer<T> {
  data?: T;
  error?: Problem;
  response: Response;
}

/**
 * The body of a success, or a ProblemError. A body that is not problem details (a proxy's
 * error page, an empty body) becomes one from the status, so callers handle one error type.
 */
async function expect<T>(operation: string, request: Promise<Answer<T>>): Promise<{ data: T; response: Response }> {
  const { data, error, response } = await request;
  if (response.ok && data !== undefined) {
    return { data, response };
  }
  const isProblem = response.headers.get("Content-Type")?.startsWith("application/problem+json") ?? false;
  throw new ProblemError(
    operation,
    error !== undefined && isProblem
      ? error
      : {
          type: "about:blank",
          title: response.statusText,
          status: response.status,
          detail: `Unexpected ${response.status} answer without problem details.`,
          code: "unexpected_response",
        },
  );
}

export function connect(baseUrl: string, accessToken?: string): Api {
  return createClient<paths>({
    baseUrl,
    headers: accessToken === undefined ? {} : { Authorization: `Bearer ${accessToken}` },
  });
}

// --- Catalogue ---------------------------------------------------------------------------

export async function searchBooks(api: Api, query: BookQuery): Promise<BookPage> {
  const { data } = await expect("books_list", api.GET("/api/v1/books/", { params: { query } }));
  return data;
}

/** `key`: ISBN-13, ISBN-10, slug or id. */
export async function getBook(api: Api, key: string): Promise<BookDetail> {
  const { data } = await expect("books_retrieve", api.GET("/api/v1/books/{key}/", { params: { path: { key } } }));
  return data;
}

// --- Cart --------------------------------------------------------------------------------

export interface CartAnswer {
  cart: Cart;
  /** The anonymous cart's token to send back; null for a signed-in customer's cart. */
  cartToken: string | null;
}

/** Adds copies of a book; an anonymous visitor without a cart yet passes no token. */
export async function addToCart(api: Api, item: CartItemInput, cartToken?: string): Promise<CartAnswer> {
  const { data, response } = await expect(
    "cart_items_create",
    api.POST("/api/v1/cart/items/", {
      params: { header: cartToken === undefined ? {} : { "X-Cart-Token": cartToken } },
      body: item,
    }),
  );
  // The schema declares this header on the 201: the name type-checks only while it does.
  const tokenHeader: DeclaredHeader<CartItemCreated> = "X-Cart-Token";
  return { cart: data, cartToken: response.headers.get(tokenHeader) };
}

// --- Account -----------------------------------------------------------------------------

export interface SignedIn {
  api: Api;
  accessToken: string;
  refreshToken: string;
  /** Present when an anonymous cart was named: what its merge into the customer's did. */
  cartMerge: CartMerge | null;
}

/** Email and password → a JWT pair; the anonymous cart `cartToken` names is merged. */
export async function signIn(
  baseUrl: string,
  credentials: Credentials,
  cartToken: string | null,
): Promise<SignedIn> {
  const { data } = await expect(
    "auth_token_create",
    connect(baseUrl).POST("/api/v1/auth/token/", {
      params: { header: cartToken === null ? {} : { "X-Cart-Token": cartToken } },
      body: credentials,
    }),
  );
  return {
    api: connect(baseUrl, data.access),
    accessToken: data.access,
    refreshToken: data.refresh,
    cartMerge: data.cart_merge ?? null,
  };
}

/** One line per change the merge made, for a notice to the customer. */
export function describeMerge(merge: CartMerge): string[] {
  return [
    ...merge.added.map((line) => `added ${line.quantity} × ${line.title}`),
    ...merge.increased.map((line) => `now ${line.quantity} × ${line.title}`),
    ...merge.capped.map((line) => `${line.quantity} of ${line.requested} × ${line.title} (${line.reason})`),
    ...merge.discarded.map((line) => `dropped ${line.title} (${line.reason})`),
  ];
}

// --- Orders ------------------------------------------------------------------------------

export interface Placed {
  order: Order;
  /** A retry of a checkout already placed with this key (200, not 201). */
  replayed: boolean;
}

/** Places the cart's order; retrying with the same `idempotencyKey` gets the same order. */
export async function checkout(
  api: Api,
  input: CheckoutInput,
  idempotencyKey: string = crypto.randomUUID(),
): Promise<Placed> {
  const { data, response } = await expect(
    "orders_create",
    api.POST("/api/v1/orders/", { params: { header: { "Idempotency-Key": idempotencyKey } }, body: input }),
  );
  return { order: data, replayed: response.status === 200 };
}

export async function getOrder(api: Api, number: string): Promise<Order> {
  const { data } = await expect("orders_retrieve", api.GET("/api/v1/orders/{number}/", { params: { path: { number } } }));
  return data;
}

/** Where the customer goes to pay, if the provider pays on a page of its own. */
export function paymentPage(order: Order): string | null {
  const payment = order.payment;
  if (payment === null) {
    return null;
  }
  return payment.pay_url || payment.approval_url || null;
}

// --- The whole journey -------------------------------------------------------------------

export interface JourneyOptions {
  baseUrl: string;
  credentials: Credentials;
  shippingAddress: InlineAddress;
  paymentProvider: PaymentProvider;
  /** The catalogue filters to pick the books from. */
  filters?: BookQuery;
}

export interface JourneyResult {
  books: BookDetail[];
  mergeNotes: string[];
  placed: Placed;
  order: Order;
}

export async function runJourney(options: JourneyOptions): Promise<JourneyResult> {
  const anonymous = connect(options.baseUrl);
  const page = await searchBooks(anonymous, {
    in_stock: "true",
    ordering: "-rating",
    page_size: 2,
    facets: false,
    ...options.filters,
  });
  const [first, second] = page.results;
  if (first === undefined || second === undefined) {
    throw new Error(`Two books in stock are needed, the catalogue has ${page.count}.`);
  }
  const books = [await getBook(anonymous, first.isbn13), await getBook(anonymous, second.slug)];

  const visitor = await addToCart(anonymous, { book: first.id, quantity: 1 });
  if (visitor.cartToken === null) {
    throw new Error("The anonymous cart came back without its X-Cart-Token.");
  }

  const customer = await signIn(options.baseUrl, options.credentials, visitor.cartToken);
  await addToCart(customer.api, { book: second.id });

  const placed = await checkout(customer.api, {
    shipping_address: options.shippingAddress,
    payment_provider: options.paymentProvider,
  });
  const order = await getOrder(customer.api, placed.order.number);
  return {
    books,
    mergeNotes: customer.cartMerge === null ? [] : describeMerge(customer.cartMerge),
    placed,
    order,
  };
}
