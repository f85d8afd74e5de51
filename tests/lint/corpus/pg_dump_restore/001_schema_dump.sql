-- expect: none
-- runner: psql
--
-- PostgreSQL database dump
--

-- Dumped from database version 15.6
-- Dumped by pg_dump version 15.6

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

CREATE SCHEMA inventory;

ALTER SCHEMA inventory OWNER TO app;

SET default_tablespace = '';

SET default_table_access_method = heap;

CREATE TABLE inventory.warehouses (
    id integer NOT NULL,
    code character varying(16) NOT NULL,
    city text
);

ALTER TABLE inventory.warehouses OWNER TO app;

CREATE SEQUENCE inventory.warehouses_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER TABLE inventory.warehouses_id_seq OWNER TO app;

ALTER SEQUENCE inventory.warehouses_id_seq OWNED BY inventory.warehouses.id;

CREATE TABLE inventory.stock (
    warehouse_id integer NOT NULL,
    sku text NOT NULL,
    qty integer DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE inventory.stock OWNER TO app;

ALTER TABLE ONLY inventory.warehouses ALTER COLUMN id SET DEFAULT nextval('inventory.warehouses_id_seq'::regclass);

ALTER TABLE ONLY inventory.warehouses
    ADD CONSTRAINT warehouses_pkey PRIMARY KEY (id);

ALTER TABLE ONLY inventory.warehouses
    ADD CONSTRAINT warehouses_code_key UNIQUE (code);

ALTER TABLE ONLY inventory.stock
    ADD CONSTRAINT stock_pkey PRIMARY KEY (warehouse_id, sku);

CREATE INDEX stock_sku_idx ON inventory.stock USING btree (sku);

ALTER TABLE ONLY inventory.stock
    ADD CONSTRAINT stock_warehouse_id_fkey FOREIGN KEY (warehouse_id) REFERENCES inventory.warehouses(id);

ALTER TABLE inventory.stock
    ADD CONSTRAINT stock_qty_check CHECK (qty >= 0);

--
-- PostgreSQL database dump complete
--
