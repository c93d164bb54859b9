/** What an account is in the customer-service population: an agent or a customer. */
export type Role = 'agent' | 'customer';
