//! Test support for backends: the conformance suite every [`Store`](crate::Store) backend
//! must pass, and the macro that runs it.

pub mod conformance;

/// Runs the whole conformance suite against a backend, one `#[tokio::test]` per case (so a
/// failure names its case). `$backend` is an expression of a type implementing
/// [`conformance::Backend`]:
///
/// ```ignore
/// struct Sqlite;
/// #[async_trait::async_trait]
/// impl waybill_store::testing::conformance::Backend for Sqlite { /* fresh() */ }
/// waybill_store::conformance_suite!(Sqlite);
/// ```
#[macro_export]
macro_rules! conformance_suite {
    ($backend:expr) => {
        $crate::conformance_suite!(@cases $backend;
            save_order_matches_parcels_and_is_idempotent,
            added_and_split_parcels_are_placed_at_once,
            list_orders_pages_by_reference_and_filters,
            a_replayed_page_changes_nothing,
            the_cursor_never_moves_backward_and_is_per_account,
            order_rows_join_every_parcel_and_pool_rows_reveal_unknown_orders,
            first_leg_scans_join_by_merchant_number_even_before_the_parcel_exists,
            main_carrier_events_outside_the_pool_join_by_tracking_number,
            parcels_are_found_by_any_number_unless_ambiguous,
            statuses_follow_the_merged_timeline_and_orders_show_the_parcel_needing_attention,
            statuses_only_move_forward_outside_the_documented_loops,
            refresh_candidates_skip_final_parcels_and_come_in_due_order,
            a_parcel_whose_first_leg_is_over_is_never_offered,
            a_webhook_covers_a_parcel_while_its_push_is_recent,
            candidates_say_how_long_they_have_been_idle,
            the_journal_upserts,
            a_replay_with_a_different_request_is_refused_and_changes_nothing,
            batched_import_calls_answer_as_single_ones,
            undecodable_rows_are_quarantined_with_their_page_and_the_cursor_moves_on,
            a_redelivered_undecodable_row_is_kept_once,
            status_changes_write_one_delivery_per_matching_subscription,
            claims_keep_each_parcels_order_and_failures_back_off_then_give_up,
            concurrent_claims_never_hand_one_delivery_to_two_workers,
        );

        #[test]
        fn page_boundaries_and_replays_do_not_change_the_result() {
            $crate::testing::conformance::page_boundaries_and_replays_do_not_change_the_result(&$backend);
        }

        #[test]
        fn every_distinct_undecodable_row_is_kept_once_whatever_the_pages() {
            $crate::testing::conformance::every_distinct_undecodable_row_is_kept_once_whatever_the_pages(&$backend);
        }
    };
    (@cases $backend:expr; $($case:ident,)*) => {
        $(
            #[tokio::test]
            async fn $case() {
                let (store, _guard) = $crate::testing::conformance::Backend::fresh(&$backend).await;
                $crate::testing::conformance::$case(&*store).await;
            }
        )*
    };
}
